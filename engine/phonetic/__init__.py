"""The phonetic driver: phones (recognised or known) -> visemes -> coarticulated head motion."""
