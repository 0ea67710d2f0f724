"""What the command line does, one job a module; `pelotonxl.cli` parses the arguments and picks one."""
