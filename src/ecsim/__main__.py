from ecsim.cli import main

main()
