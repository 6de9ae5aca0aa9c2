from a2c.cli import main

main()
