package main

import "syscall"

// Winsock's codes for the socket errors explain names: on Windows a refused
// connect is WSAECONNREFUSED, which is not syscall.ECONNREFUSED (an errno
// Go invents there).
const (
	wsaENETUNREACH  syscall.Errno = 10051
	wsaECONNABORTED syscall.Errno = 10053
	wsaECONNRESET   syscall.Errno = 10054
	wsaECONNREFUSED syscall.Errno = 10061
	wsaEHOSTUNREACH syscall.Errno = 10065
)

var (
	refusedErrnos     = []error{syscall.ECONNREFUSED, wsaECONNREFUSED}
	resetErrnos       = []error{syscall.ECONNRESET, syscall.EPIPE, wsaECONNRESET, wsaECONNABORTED}
	unreachableErrnos = []error{syscall.EHOSTUNREACH, syscall.ENETUNREACH, wsaEHOSTUNREACH, wsaENETUNREACH}
)
