"""The HTTP routes of the API, one module per feature (main.py includes their routers)."""
