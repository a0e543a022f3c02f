"""The GraphQL face of newsearch: strawberry types, thin resolvers, the starlette app."""
