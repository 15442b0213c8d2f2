# Privacy bench plot: p99 added latency against mean per-output entropy, one curve per strategy.
# veil-bench privacy writes plot_<load>.dat (one block per strategy: a name line, then "H p99_ms"
# rows; sustained points only) and, if some points were not sustained, plot_<load>_not_sustained.dat
# ("H p99_ms" rows, drawn as red crosses), and runs:
#   gnuplot -e "datafile='plot_2000.dat'; outfile='latency_vs_entropy_2000.png'; load='2000'; nblocks=6" plot_privacy.gp
# (adding "; badfile='plot_2000_not_sustained.dat'" when there is one).
if (!exists("datafile")) datafile = 'plot_2000.dat'
if (!exists("outfile")) outfile = 'latency_vs_entropy.png'
if (!exists("load")) load = '?'
if (!exists("nblocks")) nblocks = 6

set terminal pngcairo size 960,640 noenhanced font ",11"
set output outfile
set title sprintf("Veil mix at %s msg/s: p99 added latency vs. anonymity (global passive adversary)", load)
set xlabel "mean per-output entropy over inputs H (bits)"
set ylabel "p99 added latency (ms, log scale)"
set logscale y
set grid xtics ytics mytics
set key top left box opaque
# Keep the 10-bit and 1 s guides inside the frame whatever the data.
stats datafile using 1:2 nooutput
xhi = STATS_max_x
yhi = STATS_max_y
ylo = STATS_min_y
if (exists("badfile")) {
  stats badfile using 1:2 nooutput
  xhi = STATS_max_x > xhi ? STATS_max_x : xhi
  yhi = STATS_max_y > yhi ? STATS_max_y : yhi
  ylo = STATS_min_y < ylo ? STATS_min_y : ylo
}
set xrange [0:(xhi > 11 ? ceil(xhi) + 1 : 12)]
ymax = yhi > 1000 ? 2 * yhi : 2000
ymin = ylo < 0.1 ? ylo / 2 : 0.1
set yrange [ymin:ymax]
# The target region for 2,000 msg/s: H >= 10 bits and p99 <= 1 s (dashed guides).
set arrow 1 from 10, graph 0 to 10, graph 1 nohead dt 2 lc rgb "gray50"
set arrow 2 from graph 0, first 1000 to graph 1, first 1000 nohead dt 2 lc rgb "gray50"
set label 1 "target" at 10.1, 800 tc rgb "gray40"
if (exists("badfile")) {
  plot for [i=0:nblocks-1] datafile index i using 1:2 with linespoints lw 2 pt 7 ps 1.1 title columnheader(1), \
       badfile using 1:2 with points pt 2 ps 2 lw 2 lc rgb "red" title "not sustained"
} else {
  plot for [i=0:nblocks-1] datafile index i using 1:2 with linespoints lw 2 pt 7 ps 1.1 title columnheader(1)
}
