from sierra_sync.cli.main import main

main()
