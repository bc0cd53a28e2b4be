"""Turn GraphQL input into model operations; one module per area."""
