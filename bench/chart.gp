# gnuplot -e "datafile='...'; outfile='...'" bench/chart.gp
# One bar per figure and peer: how many times better relay is than the
# peer (peer/relay for times and memory, relay/peer for msg/s), log scale.
set terminal pngcairo size 1100,620 font "DejaVu Sans,10"
set output outfile
set title "relay compared with each peer (> 1: relay better, < 1: the peer better; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set yrange [0.05:*]
set grid ytics
set ylabel "times better"
set xtics rotate by -25 left noenhanced
set key top right noenhanced
set datafile missing "NaN"
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
set bmargin 9
set rmargin 14
plot datafile using 2:xtic(1) title "vs postfix" lc rgb "#1f77b4", \
     '' using 3 title "vs nullmailer" lc rgb "#ff7f0e", \
     '' using 4 title "vs dma" lc rgb "#2ca02c"
