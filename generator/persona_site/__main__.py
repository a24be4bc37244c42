"""`python -m persona_site` runs the command line."""

from persona_site.cli import main

main(prog_name="persona-site")
