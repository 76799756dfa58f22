"""Datasets: CASIA-B and CASIA-A layouts, readers of released trees and OpenGait pickles, GaitSet's
preprocessing, the synthetic dataset, and the packed frame store every later stage reads."""
