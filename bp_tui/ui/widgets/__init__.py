"""One module per widget of the dashboard's tabs: panels and charts."""
