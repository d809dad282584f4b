"""Result directories: one package owns every format, writer and reader."""
