import EtchCLI
EtchCommandLine.main()
