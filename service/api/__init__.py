"""HTTP wiring: typed dependencies, error handlers, middleware, health and metrics. Domain routers live in
their packages (``service.<noun>.views``)."""
