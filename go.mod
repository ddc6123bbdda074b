module github.com/plcctl/plcctl

go 1.26

require (
	github.com/goburrow/modbus v0.1.0
	github.com/rs/zerolog v1.34.0
	github.com/spf13/pflag v1.0.7
	golang.org/x/sys v0.12.0
)

require (
	github.com/goburrow/serial v0.1.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.19 // indirect
)
