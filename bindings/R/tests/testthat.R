library(testthat)
library(otkit)

test_check("otkit")
