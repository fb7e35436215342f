"""The Textual dashboard: app.py with app.tcss beside it, one module per widget in widgets/.

It draws what the engine reports and sends it commands; `bp_tui.cli.dashboard` starts it.
"""
