// Faces visible in each group photo of the shared test data, counted by eye (every face at
// least ~34 px wide whose eyes/nose/mouth are visible; backs of heads and a face cut off at the
// frame edge down to hair only are not counted).
export const GROUP_FACE_COUNTS: Record<string, number> = {
  'bbt1.jpg': 4,
  'bbt2.jpg': 3, // the blurred people in the background face away from the camera
  'bbt3.jpg': 5,
  'bbt4.jpg': 6,
  'bbt5.jpg': 5,
  'kit_with_rose.jpg': 2,
  'obama_and_biden.jpg': 3, // Obama, Biden, the girl bottom right (the woman at the right edge shows hair only)
  'two_people.jpg': 2,
};
