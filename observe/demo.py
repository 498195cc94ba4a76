import click


@click.command("demo")
def demo_command() -> None:
    """Fill an empty database with a fictional demo district."""
