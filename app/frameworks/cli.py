import typer

case_app = typer.Typer(help="CASE frameworks: import packages.", no_args_is_help=True)
