"""The Textual dashboard: app.py with app.tcss beside it; drawing/, widgets/, screens/ and
inspector/ hold one module per thing of their kind.

It draws what the engine reports and sends it commands; `bp_tui.cli.dashboard` starts it.
"""
