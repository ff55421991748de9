/* The table of fuzz targets, for the replay driver. */
#include "fuzz.h"

const fuzz_target fuzz_targets[] = {
    {"mesh_off", fuzz_mesh_off}, {"mesh_obj", fuzz_mesh_obj}, {"map_model", fuzz_map_model},
    {"csv", fuzz_csv},           {"npy", fuzz_npy},           {"pgm", fuzz_pgm},
    {"png", fuzz_png},           {"cli", fuzz_cli},           {NULL, NULL},
};
