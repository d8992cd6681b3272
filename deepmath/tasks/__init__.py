"""Generated tasks whose answers are known: the tiny arithmetic task the CPU path trains and evaluates on."""
