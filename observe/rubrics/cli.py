import click

rubrics_cli = click.Group("rubrics", help="Load and list rubric files.")
