from urlsweep._entry import main

main()
