//go:build !windows

package main

import "syscall"

var (
	refusedErrnos     = []error{syscall.ECONNREFUSED}
	resetErrnos       = []error{syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED}
	unreachableErrnos = []error{syscall.EHOSTUNREACH, syscall.ENETUNREACH}
)
