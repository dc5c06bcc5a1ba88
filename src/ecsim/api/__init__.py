"""One module per API family: request parsing, calls into the services, the family's response shapes."""
