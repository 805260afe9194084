/**
 * Which of K candidate answers a model picks: the one whose first token has the highest
 * next-token logit, the first among ties. One rule for ABSC accuracy (./loreft.ts labelAccuracy)
 * and for dataset mode's `answerAmong` (lib/interp/dataset.ts), so a review the locate study
 * traces is one the accuracy counts right.
 *
 * `scores` are the candidates' logits in candidate order ([K]); returns an index into them.
 */
export function pickAmong(scores: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j;
  return best;
}
