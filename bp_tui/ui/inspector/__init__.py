"""The Inspector tab: the widget (inspector.py) and its parts, the graph it draws, a step's
detail and code, a unit's picture."""
