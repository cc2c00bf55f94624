package i18n

// frOps is the French catalogue of accessibility labels and first-run messages of the pages.
var frOps = map[string]string{
	"unsubscribe_help.title":  "Se désabonner",
	"unsubscribe_help.lead":   "La version en ligne de la lettre est la même pour tous ses lecteurs\u202f: elle ne peut pas savoir à quelle adresse vous la recevez.",
	"unsubscribe_help.link":   "Pour vous désabonner, utilisez le lien «\u00a0Se désinscrire\u00a0» en bas du courriel que vous avez reçu\u202f: il vous mène à la page de désabonnement de votre adresse, sans compte ni mot de passe.",
	"unsubscribe_help.button": "Votre messagerie affiche peut-être aussi un bouton «\u00a0Se désabonner\u00a0» à côté de l’expéditeur\u202f: il a le même effet.",
	"unsubscribe_help.mail":   "Vous pouvez aussi écrire, depuis l’adresse qui reçoit la lettre, à",
}
