"""Administrative areas as versioned data: districts, towns, custom jurisdictions, shared borders."""
