from sinkload.cli import main

main()
