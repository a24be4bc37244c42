"""`python -m persona_site` runs the command line."""

from persona_site.cli import run

run()
