"""CASE (1EdTech Competencies and Academic Standards Exchange) protocol code."""
