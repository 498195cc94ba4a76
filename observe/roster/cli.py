import click

roster_cli = click.Group("roster", help="Import schools and classrooms.")
