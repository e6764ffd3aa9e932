"""`frontierbench <command>`: one module per command, each with add_arguments() and main()."""
