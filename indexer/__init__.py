"""The write side of newsearch: reading article sources and building the index."""
