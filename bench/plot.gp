# plot.gp: the two plots of BENCHMARKS.md from bench/report's data files.
#   gnuplot -e "dir='bench/results/latest'" bench/plot.gp
set terminal pngcairo size 900,540 font ",11"
set grid
set key top left
set ylabel "requests/s"

set output dir."/inflight.png"
set title "plcctl bench: FC 3 x 10 on one connection to plcsim"
set xlabel "requests in flight (pipelining)"
set logscale x 2
set xtics (1, 2, 4, 8, 16)
plot dir."/inflight.tsv" using 1:2 with linespoints lw 2 title "pinned: plcctl, plcsim on CPU 0", \
     dir."/inflight.tsv" using 1:3 with linespoints lw 2 title "unpinned, both CPUs"

set output dir."/connections.png"
set title "Servers under one load generator: FC 3 x 10, one request outstanding per connection"
set xlabel "connections"
set xtics (1, 8, 64, 256)
plot dir."/connections.tsv" using 1:2 with linespoints lw 2 title "plcsim (CPU 0)", \
     dir."/connections.tsv" using 1:3 with linespoints lw 2 title "libmodbus C server (CPU 0)", \
     dir."/connections.tsv" using 1:4 with linespoints lw 2 title "pymodbus 3.0 (CPU 0)", \
     dir."/connections.tsv" using 1:5 with linespoints lw 2 dt 2 title "plcsim, both CPUs"
