"""The dashboard's screens, one module each: every Screen of the app lives here."""
