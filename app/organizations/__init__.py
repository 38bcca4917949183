"""Organizations own people, activities and evidence (state, district, school)."""
