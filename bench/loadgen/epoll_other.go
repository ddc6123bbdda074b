//go:build !linux

package main

import (
	"errors"
	"time"
)

const defaultEngine = "goroutines"

func runEpoll(string, int, time.Duration, int, int64, int) (result, error) {
	return result{}, errors.New("-engine epoll needs Linux")
}
