package main

// RunMainForTest runs main; TestExitCodes re-executes the test binary into it.
func RunMainForTest() { main() }
