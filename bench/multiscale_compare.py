#!/usr/bin/env python3
"""Compares two runs saved by bench/multiscale_run.py (value, gradient,
truncation_bound): a truncated run against the untruncated one of the same
schedule (TRUNCATE inf), or two builds of the library.

  /usr/bin/python3 bench/multiscale_compare.py TRUNCATED.npz UNTRUNCATED.npz
"""
import sys

import numpy as np


def main():
    a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
    va, vb = float(a["value"]), float(b["value"])
    ga, gb = a["grad_x"], b["grad_x"]
    gmax = float(np.abs(gb).max())
    diff = float(np.abs(ga - gb).max())
    print("value %.17g vs %.17g: abs diff %.3g, rel %.3g" % (va, vb, abs(va - vb),
                                                             abs(va - vb) / abs(vb)))
    print("grad_x max abs diff %.3g (largest entry %.3g: %.3g of it), rel l2 %.3g"
          % (diff, gmax, diff / gmax, np.linalg.norm(ga - gb) / np.linalg.norm(gb)))
    print("truncation_bound %.3g vs %.3g; cpu s %.1f vs %.1f; wall s %.1f vs %.1f"
          % (float(a["bound"]), float(b["bound"]), float(a["cpu"]), float(b["cpu"]),
             float(a["seconds"]), float(b["seconds"])))


if __name__ == "__main__":
    main()
