"""The app's notices: at most one toast of each kind, updated where it stands (twelve + presses
make one notice, not twelve stacked over the panels), with Textual's public API only.

Textual adds a toast through the Notify message and clears them all (App.clear_notifications);
it has no public way to take one away. So a notice that replaces or withdraws one still shown
clears them all and shows the others again, each for the rest of its time. Every Notify the app
handles passes through `arrived` (BpTuiApp.on_notify), other notify() calls' too, so none is lost
in the clearing; the clearing waits until no toast of ours is still on its way in the app's
queue (one arriving after it would stay).
"""

from __future__ import annotations

from textual.app import App
from textual.notifications import Notification, Notify


class Notices:
    def __init__(self, app: App) -> None:
        self.app = app
        self.shown: dict[str, Notification] = {}  # identity -> each toast up or on its way
        self.kinds: dict[str, str] = {}  # kind -> the identity of its toast
        self.on_the_way: set[str] = set()  # posted here, their Notify not handled yet
        self.stale = False  # a toast must go: clear and show again once none is on the way

    def show(self, kind: str, message: str, severity: str, timeout: float) -> None:
        """The notice of `kind`, in place of the one before it."""
        self.withdraw(kind)
        self.shown = {i: n for i, n in self.shown.items() if not n.has_expired}
        notification = Notification(message, "", severity, timeout, markup=False)
        self.kinds[kind] = notification.identity
        self.shown[notification.identity] = notification
        if not self.stale:  # else the clearing shows it
            self._post(notification)

    def withdraw(self, kind: str) -> None:
        notification = self.shown.pop(self.kinds.pop(kind, ""), None)
        if notification is not None and not notification.has_expired:
            self.stale = True
            self._redraw()

    def arrived(self, notification: Notification) -> None:
        """A Notify the app is handling, before Textual adds its toast."""
        if notification.identity in self.on_the_way:
            self.on_the_way.discard(notification.identity)
        else:
            self.shown[notification.identity] = notification  # a notify() of the app's
        if self.stale and not self.on_the_way:
            self.app.call_later(self._redraw)  # once Textual has added this one

    def forget(self) -> None:
        """Every toast has been cleared."""
        self.shown, self.kinds, self.stale = {}, {}, False

    def _redraw(self) -> None:
        if self.on_the_way or not self.stale:
            return
        shown, kinds = self.shown, {identity: kind for kind, identity in self.kinds.items()}
        self.forget()
        self.app.clear_notifications()
        for identity, old in shown.items():
            if old.has_expired:
                continue
            again = Notification(
                old.message, old.title, old.severity, old.time_left, markup=old.markup
            )
            self.shown[again.identity] = again
            if identity in kinds:
                self.kinds[kinds[identity]] = again.identity
            self._post(again)

    def _post(self, notification: Notification) -> None:
        self.on_the_way.add(notification.identity)
        self.app.post_message(Notify(notification))
