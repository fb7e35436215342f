"""One module per widget of the dashboard."""
