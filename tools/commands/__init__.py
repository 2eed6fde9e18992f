"""One module per ``minigrad`` subcommand."""
