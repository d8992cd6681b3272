"""The demo world generator (`deepmath demo-data DIR`) and the run report (`deepmath report`)."""
