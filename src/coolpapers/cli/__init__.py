"""The `coolpapers` command line (typer): demo, serve, harvest, import."""
