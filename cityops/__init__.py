"""cityops: city operations one-network unified management (一网统管)."""
