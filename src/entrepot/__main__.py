from entrepot.cli import main

main()
