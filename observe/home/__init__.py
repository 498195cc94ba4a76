"""The home page: counts of what the signed-in person may see, and where to go next."""
