"""The ASGI application, the router built from the catalog, and error rendering per API family."""
