import typer

platforms_app = typer.Typer(
    help="LTI platforms (LMS registrations).", no_args_is_help=True
)
